-- Incremental: rebuilds the assignments loaded since the last build (or delivered in the build
-- window) and those whose file was delivered again since, from every version loaded now.
{{ config(
    materialized='incremental',
    unique_key=['experiment_id', 'visitor_id'],
    incremental_strategy='delete+insert',
    post_hook="{{ delete_superseded() }}",
) }}

with

source as (
    select * from {{ source('raw', 'experiment_assignments') }}
    {%- if is_incremental() %}
    where (experiment_id, visitor_id) in (
        {{ staging_keys_to_rebuild(
            source('raw', 'experiment_assignments'), 'experiment_id, visitor_id'
        ) }}
    )
    {%- endif %}
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
        _business_date as _delivery_date,
        _source_file
    from source
    {{ latest_version(['experiment_id', 'visitor_id']) }}
)

select * from renamed
