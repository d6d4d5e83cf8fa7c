with

source as (
    select * from {{ source('raw', 'experiments') }}
),

renamed as (
    select
        -- ids
        experiment_id,
        -- attributes
        name,
        control_variant,
        planned_split,
        -- timestamps (UTC) and dates
        start_date,
        end_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['experiment_id']) }}
)

select * from renamed
