-- Rows per business day of one fact, against its trailing 28-day norm, for the latest
-- `window_days` days (the ratio only where the norm is at least `min_rows` rows).
with

daily as (
    select {{ date_column }} as business_date, count(*) as row_count,
    from marts.{{ fact }}
    group by {{ date_column }}
),

{% include '_trailing_norm.sql' %}

select
    business_date,
    row_count,
    trailing_median,
    case when trailing_median >= $min_rows then row_count / trailing_median end as ratio_to_median,
    (row_count - trailing_mean) / nullif(trailing_stddev, 0) as z_score,
from normed
where business_date > (select max(business_date) from daily) - cast($window_days as integer)
order by business_date
