-- A table as it will be published.
select * from marts.{{ table }}
