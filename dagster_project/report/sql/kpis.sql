-- The KPI registry: name, unit, direction, mart and (in publications that have them) the
-- sources and availability of every KPI id.
select *
from dim_kpis
