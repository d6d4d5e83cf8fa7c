{{ history('products', 'product_id', 'updated_at', [
    'sku', 'name', 'category', 'subcategory', 'brand', 'supplier_id', 'unit_cost', 'list_price',
    'launched_at', 'discontinued_at',
]) }}
