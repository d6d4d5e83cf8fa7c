-- Suppliers as they are now.
with

suppliers as (
    select * from {{ ref('stg_suppliers') }}
)

select
    supplier_id,
    name,
    country
from suppliers
