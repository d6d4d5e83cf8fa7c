-- Incremental: rebuilds the sessions loaded since the last build (or delivered in the build
-- window) and those whose file was delivered again since, from every version loaded now.
{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    post_hook="{{ delete_superseded() }}",
) }}

with

source as (
    select * from {{ source('raw', 'sessions') }}
    {%- if is_incremental() %}
    where session_id in ({{ staging_keys_to_rebuild(source('raw', 'sessions'), 'session_id') }})
    {%- endif %}
),

renamed as (
    select
        -- ids
        session_id,
        visitor_id,
        customer_id,
        campaign_id,
        -- attributes
        platform,
        device,
        channel,
        landing_page,
        -- timestamps (UTC) and dates
        started_at,
        {{ business_date('started_at') }} as session_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date,
        _source_file
    from source
    {{ latest_version(['session_id']) }}
)

select * from renamed
