{#-
    Order KPIs (catalogue §4) of int_revenue_movements grouped by `period` (an expression on
    movement_date, e.g. the day or its month, published as `period_alias`) and `dims`. All parts are additive sums.
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
        'sum(case when is_member then gmv - discount_amount - refund_amount else 0 end)',
        'sum(gmv - discount_amount - refund_amount)',
    ) }},
from {{ ref('int_revenue_movements') }}
group by {{ period }}{% for dim in dims %}, {{ dim }}{% endfor %}
{%- endmacro %}
