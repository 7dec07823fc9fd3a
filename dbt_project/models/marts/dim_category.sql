-- category texts of the platforms with their canonical category and 农产品 flag
select
    cast(category_text as varchar) as category_text,
    cast(canonical_category as varchar) as canonical_category,
    cast(is_agri as boolean) as is_agri
from {{ ref('category_map') }}
