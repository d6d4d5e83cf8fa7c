{#-
    Order KPIs (catalogue §4) of int_revenue_movements grouped by `period` (an expression on
    movement_date, e.g. the day or its month, published as `period_alias`) and `dims`. All
    parts are additive sums. Net revenue counts each refund on its own date; the member share
    divides the net revenue of the period's orders after all their refunds (order_net_revenue),
    so that its parts, members' and everyone's, are never negative and the share is in 0..1.
-#}
{% macro order_kpis(period, dims, period_alias='kpi_date') -%}
select
    {{ period }} as {{ period_alias }},
    {%- for dim in dims %}
    {{ dim }},
    {%- endfor %}
    sum(orders) as orders,
    sum(units) as units,
    sum(gmv) as gmv,
    sum(discount_amount) as discount_amount,
    sum(refund_amount) as refund_amount,
    sum(gmv - discount_amount - refund_amount) as net_revenue,
    {{ ratio('aov', 'sum(gmv - discount_amount)', 'sum(orders)') }},
    {{ ratio('units_per_order', 'sum(units)', 'sum(orders)') }},
    {{ ratio(
        'member_revenue_share',
        'sum(case when is_member then order_net_revenue else 0 end)',
        'sum(order_net_revenue)',
    ) }}
from {{ ref('int_revenue_movements') }}
group by {{ period }}{% for dim in dims %}, {{ dim }}{% endfor %}
{%- endmacro %}
