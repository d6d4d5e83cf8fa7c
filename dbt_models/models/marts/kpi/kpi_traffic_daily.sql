-- Traffic and conversion per day, channel, platform and device (catalogue §1, §2).
-- Visitors are distinct within each row: sum sessions across rows, never visitors.
with

traffic as (
    {{ traffic_kpis(['channel', 'platform', 'device']) }}
)

select
    *,
    {{ ratio('channel_share', 'sessions', 'sum(sessions) over (partition by kpi_date)') }}
from traffic
