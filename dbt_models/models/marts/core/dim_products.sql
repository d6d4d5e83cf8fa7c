-- Products as they are now.
with

products as (
    select * from {{ ref('stg_products') }}
)

select
    product_id,
    supplier_id,
    sku,
    name,
    category,
    subcategory,
    brand,
    unit_cost,
    list_price,
    launched_date,
    discontinued_date,
    launched_at,
    discontinued_at
from products
