-- The KPIs the build left out because a source they need never delivered (dim_kpis).
select kpi_id
from marts.dim_kpis
where not is_available
order by kpi_id
