-- The KPI registry: name, unit and direction of every KPI id.
select
    kpi_id,
    kpi_name,
    unit,
    higher_is_better,
from dim_kpis
