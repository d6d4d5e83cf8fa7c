-- Rows loaded per business day of one raw table, against its trailing 28-day norm, for the
-- latest `window_days` days (the ratio only where the norm is at least `min_rows` rows).
-- `days_behind`, for sources that deliver daily, is how many days the table's last delivery
-- lags the newest delivery of any daily source; a day the producer declared complete
-- (`marked_days`: landing/_SUCCESS/dt=<day>) counts as delivered, with nothing in it.
-- The window ends on the table's own last delivery for a daily source (so that one that
-- stopped is still judged, by days_behind), and no earlier than the newest daily delivery for
-- any other: a source that pauses (an experiment's assignments after its end date) has nothing
-- in the days a refresh publishes, and its last days, judged when they were delivered, are not
-- judged again on every later refresh.
with

daily as (
    select business_date, sum(rows_loaded) as row_count,
    from raw._load_manifest
    where table_name = $table_name
    group by business_date
),

newest_daily_delivery as (
    select max(business_date) as business_date,
    from raw._load_manifest
    where table_name in (select unnest($daily_tables))
),

covered_until as (
    select max(covered.business_date) as business_date,
    from (
        select business_date from daily
        union all
        select unnest(cast($marked_days as date[])) as business_date
    ) as covered
    where covered.business_date <= (select business_date from newest_daily_delivery)
),

window_end as (
    select
        case
            when $is_daily then max(daily.business_date)
            else greatest(max(daily.business_date), max(newest.business_date))
        end as business_date,
    from daily
    cross join newest_daily_delivery as newest
),

{% include '_trailing_norm.sql' %}

select
    normed.business_date,
    normed.row_count,
    normed.trailing_median,
    -- below `min_rows` a day's count is too small for a ratio to mean anything
    case
        when normed.trailing_median >= $min_rows
            then normed.row_count / normed.trailing_median
    end as ratio_to_median,
    (normed.row_count - normed.trailing_mean) / nullif(normed.trailing_stddev, 0) as z_score,
    case
        when $is_daily
            then date_diff(
                'day', (select business_date from covered_until), newest.business_date
            )
    end as days_behind,
from normed
cross join newest_daily_delivery as newest
where normed.business_date > (select business_date from window_end) - cast($window_days as integer)
order by normed.business_date
