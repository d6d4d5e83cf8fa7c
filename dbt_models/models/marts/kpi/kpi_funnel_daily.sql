-- The closed in-session funnel per day, channel, platform, device and step (catalogue §2):
-- step rate = sessions at step k ÷ sessions at step k-1, drop-off = 1 - step rate,
-- cumulative rate = sessions at step k ÷ sessions.
with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

steps as (
    select
        session_date as kpi_date,
        channel,
        platform,
        device,
        count(*) as step_0,
        sum(case when reached_product_view then 1 else 0 end) as step_1,
        sum(case when reached_add_to_cart then 1 else 0 end) as step_2,
        sum(case when reached_begin_checkout then 1 else 0 end) as step_3,
        sum(case when reached_purchase then 1 else 0 end) as step_4
    from sessions
    group by session_date, channel, platform, device
),

long as (
    {%- for name in funnel_steps() %}
    select
        kpi_date,
        channel,
        platform,
        device,
        {{ loop.index }} as step_number,
        '{{ name }}' as funnel_step,
        step_{{ loop.index }} as step_sessions,
        step_{{ loop.index0 }} as previous_step_sessions,
        step_0 as sessions
    from steps
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select
    kpi_date,
    channel,
    platform,
    device,
    step_number,
    funnel_step,
    sessions,
    previous_step_sessions,
    step_sessions,
    {{ ratio('funnel_step_rate', 'step_sessions', 'previous_step_sessions') }},
    1 - {{ safe_divide('step_sessions', 'previous_step_sessions') }} as funnel_drop_off_rate,
    {{ ratio('funnel_cumulative_rate', 'step_sessions', 'sessions') }}
from long
