-- Rows per business day of one fact, against its trailing 28-day norm, for the latest
-- `window_days` days (the ratio only where the norm is at least `min_rows` rows).
with

daily as (
    select {{ date_column }} as business_date, count(*) as row_count,
    from marts.{{ fact }}
    group by {{ date_column }}
),

normed as (
    select
        business_date,
        row_count,
        median(row_count) over trailing_28_days as trailing_median,
        avg(row_count) over trailing_28_days as trailing_mean,
        stddev_samp(row_count) over trailing_28_days as trailing_stddev,
    from daily
    window trailing_28_days as (
        order by business_date
        range between interval 28 day preceding and interval 1 day preceding
    )
)

select
    business_date,
    row_count,
    trailing_median,
    case when trailing_median >= $min_rows then row_count / trailing_median end as ratio_to_median,
    (row_count - trailing_mean) / nullif(trailing_stddev, 0) as z_score,
from normed
where business_date > (select max(business_date) from daily) - cast($window_days as integer)
order by business_date
