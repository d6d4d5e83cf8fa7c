-- Foreign keys of raw.{{ table.name }} whose parent row is not (yet) in the raw layer.
{%- for column, parent, parent_column in foreign_keys %}
select
    '{{ column }}' as column_name,
    '{{ parent }}.{{ parent_column }}' as parent,
    count(*) as orphan_rows,
    list(distinct child.{{ column }} order by child.{{ column }})[:5] as sample_values,
from raw.{{ table.name }} as child
where
    child.{{ column }} is not null
    and not exists (
        select 1 from raw.{{ parent }} as p where p.{{ parent_column }} = child.{{ column }}
    )
{{- "\nunion all" if not loop.last }}
{%- endfor %}
