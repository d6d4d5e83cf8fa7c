-- The business date a publication is "as of": the last day the whole-shop KPIs cover.
select max(kpi_date) from build.marts.kpi_daily where dimension = 'all'
