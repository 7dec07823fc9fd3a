{#- Category texts that the category map does not know (reported, counted as not 农产品). -#}
{% test known_category(model, column_name) %}
select {{ column_name }} as unknown_category_text, count(*) as n_lines
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (select category_text from {{ ref('category_map') }})
group by {{ column_name }}
{% endtest %}
