-- The purchase model's parameters per as-of day, as fitted by the churn stage.
with source as (
    select * from {{ source('churn', 'purchase_model') }}
)

select
    fitted_on,
    r,
    alpha,
    a,
    b,
    buyers,
    log_likelihood
from source
