-- Orders, GMV, net revenue, AOV, units per order and member revenue share per day, channel and
-- platform (catalogue §4). Refunds count on their own date.
{{ order_kpis('movement_date', ['channel', 'platform']) }}
