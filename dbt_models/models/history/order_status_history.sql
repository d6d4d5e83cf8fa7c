{{ history('orders', 'order_id', 'updated_at', ['status']) }}
