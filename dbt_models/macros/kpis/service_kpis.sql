{#-
    Customer-service KPIs (catalogue §8) of int_service_records_unioned grouped by business day
    and `dims` (e.g. channel and category). One definition for kpi_service_daily and kpi_daily.

    `daily_orders` names a relation (a CTE) with kpi_date and orders (valid orders of the whole
    day): the denominator of tickets_per_1k_orders, the day's total whatever the grouping (so
    re-aggregate a day by summing numerators only). With `spine` (a relation of kpi_date),
    every day of the spine gets a row, counts 0 on days without records.

    Medians and p90s are recomputed from ticket rows for every grouping (never re-aggregate
    them); every other column is an additive count, and ratios are ratio() triplets.
    tickets_per_1k_orders and nps carry their scale in the numerator (1000 × tickets,
    100 × (promoters − detractors)) so numerator ÷ denominator is the published value.
-#}
{% macro service_kpis(dims, daily_orders, spine=none) -%}
{%- set day = 'spine.kpi_date' if spine else 'records.kpi_date' -%}
{%- set counts = {} -%}
{%- for column in [
    'tickets', 'answered_within_sla', 'resolved_tickets', 'resolved_first_contact',
    'resolved_with_survey', 'csat_responses', 'csat_satisfied', 'nps_responses',
    'nps_promoters', 'nps_detractors', 'detractors_followed_up',
] -%}
    {%- do counts.update({column: 'cast(coalesce(sum(records.' ~ column ~ '), 0) as bigint)'}) -%}
{%- endfor -%}
select
    {{ day }} as kpi_date,
    {%- for dim in dims %}
    records.{{ dim }},
    {%- endfor %}
    {{ counts.tickets }} as tickets,
    {{ ratio(
        'tickets_per_1k_orders',
        '1000 * ' ~ counts.tickets,
        'cast(coalesce(max(daily_orders.orders), 0) as bigint)',
    ) }},
    {%- for measure, unit in [('first_response', 'minutes'), ('resolution', 'hours')] %}
    cast(
        percentile_cont(0.5) within group (order by records.{{ measure }}_{{ unit }}) as double
    ) as {{ measure }}_{{ unit }},
    cast(
        percentile_cont(0.9) within group (order by records.{{ measure }}_{{ unit }}) as double
    ) as {{ measure }}_{{ unit }}_p90,
    {%- endfor %}
    {{ ratio('sla_attainment', counts.answered_within_sla, counts.tickets) }},
    {{ ratio('first_contact_resolution', counts.resolved_first_contact, counts.resolved_tickets) }},
    {{ ratio('csat', counts.csat_satisfied, counts.csat_responses) }},
    {{ counts.nps_promoters }} as nps_promoters,
    {{ counts.nps_detractors }} as nps_detractors,
    {{ ratio(
        'nps',
        '100 * (' ~ counts.nps_promoters ~ ' - ' ~ counts.nps_detractors ~ ')',
        counts.nps_responses,
    ) }},
    {{ ratio('survey_response_rate', counts.resolved_with_survey, counts.resolved_tickets) }},
    {{ ratio('detractor_follow_up_rate', counts.detractors_followed_up, counts.nps_detractors) }}
{%- if spine %}
from {{ spine }} as spine
left join {{ ref('int_service_records_unioned') }} as records
    on spine.kpi_date = records.kpi_date
{%- else %}
from {{ ref('int_service_records_unioned') }} as records
{%- endif %}
left join {{ daily_orders }} as daily_orders on {{ day }} = daily_orders.kpi_date
group by {{ day }}{% for dim in dims %}, records.{{ dim }}{% endfor %}
{%- endmacro %}
