-- Province (short name: 江苏, 新疆), city (without 市) and carrier of each mainland phone prefix.
select
    phone_prefix,
    province,
    city,
    carrier
from {{ source('reference', 'phone_regions') }}
