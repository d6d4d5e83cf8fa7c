{#-
    Campaign KPIs (catalogue §7) of int_campaign_days grouped by `dims` (e.g. campaign and day,
    campaign, or day). Every part is an additive sum, so any grouping re-aggregates exactly.
-#}
{% macro campaign_kpis(dims) -%}
select
    {%- for dim in dims %}
    {{ dim }},
    {%- endfor %}
    sum(impressions) as impressions,
    sum(clicks) as clicks,
    sum(spend) as spend,
    sum(attributed_orders) as attributed_orders,
    sum(attributed_first_orders) as attributed_first_orders,
    sum(attributed_revenue) as attributed_revenue,
    sum(attributed_cogs) as attributed_cogs,
    {{ ratio('ctr', 'sum(clicks)', 'sum(impressions)') }},
    {{ ratio('cpc', 'sum(spend)', 'sum(clicks)') }},
    {{ ratio('roas', 'sum(attributed_revenue)', 'sum(spend)') }},
    {{ ratio(
        'campaign_roi',
        'sum(attributed_revenue - attributed_cogs - spend)',
        'sum(spend)',
    ) }},
    {{ ratio('cac', 'sum(spend)', 'sum(attributed_first_orders)') }}
from {{ ref('int_campaign_days') }}
group by {{ dims | join(', ') }}
{%- endmacro %}
