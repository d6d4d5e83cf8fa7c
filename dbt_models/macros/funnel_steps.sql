{#-
    The steps of the closed in-session funnel (catalogue §2) after the session itself (step 0),
    in order: event types of stg_events. int_sessions_funnel publishes reached_<step> for each,
    kpi_funnel_daily numbers them 1 to 4.
-#}
{% macro funnel_steps() -%}
    {{ return(['product_view', 'add_to_cart', 'begin_checkout', 'purchase']) }}
{%- endmacro %}
