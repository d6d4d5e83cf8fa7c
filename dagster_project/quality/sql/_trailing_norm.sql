{#- The CTE `normed`: each day's row_count of CTE `daily` beside the median, mean and
    standard deviation of the 28 days before it, or NULL (nothing to judge against) while fewer
    than `min_days` of those days have rows, e.g. a source's first weeks or a first full
    catalogue followed by small change deliveries. Shared by the raw and fact volume frames. -#}
normed as (
    select
        business_date,
        row_count,
        count(*) over trailing_28_days >= $min_days as has_norm,
        case when has_norm then median(row_count) over trailing_28_days end as trailing_median,
        case when has_norm then avg(row_count) over trailing_28_days end as trailing_mean,
        case when has_norm then stddev_samp(row_count) over trailing_28_days end
            as trailing_stddev,
    from daily
    window trailing_28_days as (
        order by business_date
        range between interval 28 day preceding and interval 1 day preceding
    )
)
