{{ history('suppliers', 'supplier_id', 'updated_at', ['name', 'country']) }}
