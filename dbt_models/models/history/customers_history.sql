{{ history('customers', 'customer_id', 'updated_at', [
    'visitor_id', 'registered_at', 'city', 'member_tier',
]) }}
