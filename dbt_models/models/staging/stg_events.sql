-- Incremental: rebuilds the events loaded since the last build (or delivered in the build
-- window) and those whose file was delivered again since, from every version loaded now.
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    post_hook="{{ delete_superseded() }}",
) }}

with

source as (
    select * from {{ source('raw', 'events') }}
    {%- if is_incremental() %}
    where event_id in ({{ staging_keys_to_rebuild(source('raw', 'events'), 'event_id') }})
    {%- endif %}
),

renamed as (
    select
        -- ids
        event_id,
        session_id,
        product_id,
        order_id,
        -- attributes
        event_type,
        -- timestamps (UTC) and dates
        event_at,
        {{ business_date('event_at') }} as event_date,
        -- lineage
        _loaded_at,
        _business_date as _delivery_date,
        _source_file
    from source
    {{ latest_version(['event_id']) }}
)

select * from renamed
