-- Helpers shared by the report queries, created as temporary macros on the read-only
-- connection (temporary objects need no write access to the published file).

-- numerator ÷ denominator as a double; NULL (never 0 or infinity) when the denominator is 0,
-- as in the mart's safe_divide macro.
create or replace temp macro safe_divide(numerator, denominator) as
    cast(numerator as double) / nullif(cast(denominator as double), 0);

-- The whole 7-day weeks ending on the as-of date (the latest `weeks` of them) that start on or
-- after the first day of data: partial weeks would look like drops.
create or replace temp macro report_weeks(as_of_date, first_date, weeks) as table
    select
        cast(as_of_date - cast(7 * week_index + 6 as integer) as date) as week_start,
        cast(as_of_date - cast(7 * week_index as integer) as date) as week_end,
    from range(weeks) as week_indexes (week_index)
    where as_of_date - cast(7 * week_index + 6 as integer) >= first_date;
