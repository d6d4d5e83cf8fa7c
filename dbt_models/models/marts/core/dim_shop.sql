-- The shop this mart describes: one row with its name, currency and time zone, as the pipeline
-- resolved them (KPI_* variables, else the shop's landing/_shop.yml, else the defaults).
select
    cast('{{ var("shop_name") | replace("'", "''") }}' as varchar) as shop_name,
    cast('{{ var("shop_currency") | replace("'", "''") }}' as varchar) as currency,
    cast('{{ var("shop_timezone") | replace("'", "''") }}' as varchar) as timezone
