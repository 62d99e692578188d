{#-
  Generic test of an SCD Type 2 table with valid_from / valid_to / is_current: returns the
  versions that are inconsistent: a closed version that ends before it starts, or an
  is_current that disagrees with valid_to (is_current is a generated column, so this also
  fails when the post-hook that adds it did not run).
-#}
{% test scd2_versions(model) %}
select *
  from {{ model }}
 where (valid_to is not null and valid_to <= valid_from)
    or is_current is distinct from (valid_to is null)
{% endtest %}
