{#- The CTE `normed`: each day's row_count of CTE `daily` beside the median, mean and
    standard deviation of the 28 days before it. Shared by the raw and fact volume frames. -#}
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
