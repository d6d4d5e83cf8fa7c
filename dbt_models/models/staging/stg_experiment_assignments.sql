with

source as (
    select * from {{ source('raw', 'experiment_assignments') }}
),

renamed as (
    select
        -- ids
        experiment_id,
        visitor_id,
        -- attributes
        variant,
        -- timestamps (UTC) and dates
        assigned_at,
        {{ business_date('assigned_at') }} as assigned_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date
    from source
    {{ latest_version(['experiment_id', 'visitor_id']) }}
)

select * from renamed
