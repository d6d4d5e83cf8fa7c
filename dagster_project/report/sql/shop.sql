-- The shop the mart describes: its name and currency.
select
    shop_name,
    currency,
from dim_shop
