"""A simulated brand, written into the landing zone with the messiness real exports have.

The brand sells through an app, a web shop, a WeChat mini-program and stores, and talks to its
customers on a WeChat official account, WeCom, Weibo and Douyin. Every simulated person has a
true key (`P0000042`) and a set of identifiers; each record shows only the fragments that
channel would see, so the same person is scattered across device ids, member ids, cards,
phones typed three ways, openids per app, a unionid and an email.

Behaviour has structure so the marts downstream have shapes worth looking at: registration
cohorts with a weekly rhythm, habits that lapse and come back, a few heavy buyers, never-buyers,
store regulars, social sharers whose invitees register.

Messiness on purpose (each is counted in `ground_truth/messiness.json`): phones with +86 / 0086,
spaces, dashes, full-width digits, float artefacts; emails in mixed case with spaces; junk
identifiers shared by many people (each store's counter phone, test@test.com, the all-zero
device id); duplicate events (in the same file and in the next day's delivery); late events;
refunds and cancellations as new order versions; future-dated events; malformed rows;
a GBK-encoded offline CSV; consent opt-ins and opt-outs, their values spelt as vendors spell them
(`SMS`, `短信`, `退订`, `mobile`); SMS gateway reply reports with STOP replies among the chatter.

Deterministic for a seed: the same arguments write byte-identical files. Work is vectorised
over persons per day, so a million persons over a year stays a matter of minutes.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

CONTENT_CATEGORIES = np.array(["武侠", "都市", "言情", "科幻", "历史", "美妆教程", "穿搭", "美食"])
PRODUCT_CATEGORIES = np.array(["护肤", "彩妆", "香氛", "服饰", "家居", "食品", "数码配件"])
CITIES = np.array(["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "乌鲁木齐"])
SURNAMES = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
GIVEN = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"))
STORE_COUNT = 12
TEST_EMAIL = "test@test.com"
ZERO_DEVICE = "00000000-0000-0000-0000-000000000000"


@dataclass
class Population:
    """Per-person attributes as arrays indexed by person number."""

    n: int
    registers: np.ndarray          # bool: becomes a member at some point
    reg_day: np.ndarray            # day index of registration (or first visit for anonymous)
    first_day: np.ndarray          # first day the person shows up
    activity: np.ndarray           # daily probability of being active while engaged
    lapse_hazard: np.ndarray       # daily probability of lapsing while engaged
    return_hazard: np.ndarray      # daily probability of coming back while lapsed
    buy_prob: np.ndarray           # probability of ordering on an active day
    basket: np.ndarray             # median order value
    platform: np.ndarray           # primary online platform
    store_goer: np.ndarray
    offline_registration: np.ndarray
    hour: np.ndarray               # preferred hour of day
    content: np.ndarray            # favourite content category index
    product: np.ndarray            # favourite product category index
    sharer: np.ndarray
    referrer: np.ndarray           # person who invited this one (-1: none)
    gender: np.ndarray
    birthday: np.ndarray
    city: np.ndarray
    ids: dict[str, np.ndarray] = field(default_factory=dict)   # identifier type → value (None: has none)


def _hex(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    digits = np.array(list("0123456789abcdef"))
    return np.array(["".join(row) for row in digits[rng.integers(0, 16, size=(n, length))]], dtype=object)


def _alnum(rng: np.random.Generator, n: int, length: int, prefix: str) -> np.ndarray:
    chars = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
    return np.array([prefix + "".join(row) for row in chars[rng.integers(0, len(chars), size=(n, length))]],
                    dtype=object)


def _codes(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded codes (`e0000000042`); works on empty arrays, unlike np.char.zfill."""
    return np.array([f"{prefix}{int(i):0{width}d}" for i in numbers], dtype=object)


def _maybe(rng: np.random.Generator, values: np.ndarray, share: float | np.ndarray) -> np.ndarray:
    out = values.astype(object).copy()
    out[rng.random(len(values)) >= share] = None
    return out


def make_population(n: int, days: int, rng: np.random.Generator) -> Population:
    registers = rng.random(n) < 0.8                      # 20 % stay anonymous device-only visitors
    # Registration cohorts: more sign-ups on weekends and a slow growth over the period.
    day_weights = np.array([(1.3 if (d % 7) in (5, 6) else 1.0) * (1 + 0.5 * d / max(days, 1))
                            for d in range(days)])
    reg_day = rng.choice(days, size=n, p=day_weights / day_weights.sum())
    first_day = np.maximum(0, reg_day - rng.geometric(0.5, size=n) + 1)
    heavy = rng.random(n) < 0.03
    never_buy = rng.random(n) < 0.35
    buy_prob = np.where(heavy, 0.45, np.where(never_buy, 0.0, rng.uniform(0.02, 0.12, n)))
    buy_prob = np.where(registers, buy_prob, 0.0)
    store_goer = registers & (rng.random(n) < 0.3)
    sharer = registers & (rng.random(n) < 0.05)
    # Invitees: a share of later registrants were invited by a sharer who registered before them.
    referrer = np.full(n, -1)
    sharers = np.flatnonzero(sharer)
    if len(sharers):
        invited = np.flatnonzero(registers & (rng.random(n) < 0.08))
        inviter = sharers[rng.integers(0, len(sharers), size=len(invited))]
        ok = reg_day[inviter] < reg_day[invited]
        referrer[invited[ok]] = inviter[ok]
    birthday = (np.datetime64("1960-01-01") + rng.integers(0, 365 * 45, n).astype("timedelta64[D]")).astype(str)
    pop = Population(
        n=n, registers=registers, reg_day=reg_day, first_day=first_day,
        activity=np.clip(rng.beta(1.2, 5.0, n) + heavy * 0.3, 0.02, 0.95),
        lapse_hazard=rng.uniform(1 / 90, 1 / 15, n),
        return_hazard=rng.uniform(1 / 120, 1 / 30, n),
        buy_prob=buy_prob, basket=np.where(heavy, rng.lognormal(6.2, 0.4, n), rng.lognormal(4.9, 0.6, n)),
        platform=rng.choice(np.array(["ios", "android", "web", "miniprogram"]), size=n, p=[0.3, 0.3, 0.15, 0.25]),
        store_goer=store_goer, offline_registration=store_goer & (rng.random(n) < 0.6),
        hour=rng.choice(np.array([8, 9, 12, 13, 19, 20, 21, 22]), size=n),
        content=rng.integers(0, len(CONTENT_CATEGORIES), n), product=rng.integers(0, len(PRODUCT_CATEGORIES), n),
        sharer=sharer, referrer=referrer,
        gender=rng.choice(np.array(["F", "M", "女", "男", ""]), size=n, p=[0.35, 0.25, 0.15, 0.1, 0.15]),
        birthday=birthday, city=rng.integers(0, len(CITIES), n),
    )
    # Identifiers. Phones are unique 11-digit mainland mobiles.
    prefixes = np.array([130, 131, 132, 135, 136, 137, 138, 139, 150, 151, 152, 158, 159, 166, 176, 177,
                         178, 180, 181, 186, 187, 188, 189, 191, 199])
    phone_numbers = rng.choice(prefixes, n).astype(np.int64) * 10**8 + rng.choice(10**8, size=n, replace=False)
    idx = np.arange(n)
    wechat = (rng.random(n) < 0.65) | (pop.platform == "miniprogram")
    pop.ids = {
        "device_id": np.array([f"{a[:8]}-{a[8:12]}-{a[12:16]}-{a[16:20]}-{a[20:]}" for a in _hex(rng, n, 32)],
                              dtype=object),
        # A second device (a browser cookie) only for members: it becomes known by logging in.
        "device_id_2": _maybe(rng, np.array([f"ck{a}" for a in _hex(rng, n, 24)], dtype=object), 0.3 * registers),
        "member_id": np.where(registers, _codes("", idx + 1, 9), None).astype(object),
        # Registration verifies a mobile number (real-name rules), so every member has one.
        "phone": np.where(registers, phone_numbers.astype(str), None).astype(object),
        "email": np.where(registers & (rng.random(n) < 0.35),
                          np.char.add(np.char.add("user", idx.astype(str)),
                                      rng.choice(np.array(["@qq.com", "@163.com", "@gmail.com", "@outlook.com"]), n)),
                          None).astype(object),
        "member_card_no": np.where(store_goer, _codes("8800", idx, 8), None).astype(object),
        "push_token": np.where(np.isin(pop.platform, ["ios", "android"]) & (rng.random(n) < 0.8),
                               _hex(rng, n, 19), None).astype(object),
        "wechat_unionid": np.where(wechat, _alnum(rng, n, 25, "oU"), None).astype(object),
        "wechat_openid_mp": np.where(wechat & ((pop.platform == "miniprogram") | (rng.random(n) < 0.3)),
                                     _alnum(rng, n, 25, "oM"), None).astype(object),
        # Anonymous visitors stay device-only (plus the mini-program's ids if that is where they browse).
        "wechat_openid_oa": np.where(wechat & (registers | (pop.platform == "miniprogram")) & (rng.random(n) < 0.6),
                                     _alnum(rng, n, 25, "oA"), None).astype(object),
        # WeCom external contacts are WeChat users who added an advisor.
        "wecom_external_userid": np.where(registers & wechat & (rng.random(n) < 0.2), _alnum(rng, n, 30, "wm"),
                                          None).astype(object),
        # Weibo and Douyin accounts the brand can name came through a lead form with a phone.
        "weibo_uid": np.where(registers & (rng.random(n) < 0.1), (5_000_000_000 + idx).astype(str), None).astype(object),
        "douyin_id": np.where(registers & (rng.random(n) < 0.05), _alnum(rng, n, 12, "dy"), None).astype(object),
    }
    pop.ids["wecom_owner"] = np.where(pop.ids["wecom_external_userid"] != None,  # noqa: E711
                                      np.char.add("staff_", rng.integers(1, 40, n).astype(str)), None).astype(object)
    return pop


# --- messy typing -----------------------------------------------------------------------------

def messy_phones(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """11-digit strings → as typed in real exports (+86, spaces, dashes, full-width, float…)."""
    out = values.astype(object).copy()
    present = np.flatnonzero(pd.notna(out))
    style = rng.choice(9, size=len(present), p=[0.40, 0.12, 0.12, 0.08, 0.05, 0.08, 0.05, 0.05, 0.05])
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    formats = [
        lambda p: p,
        lambda p: f"+86 {p[:3]} {p[3:7]} {p[7:]}",
        lambda p: f"{p[:3]}-{p[3:7]}-{p[7:]}",
        lambda p: f"86{p}",
        lambda p: p.translate(full_width),
        lambda p: f"{p[:3]} {p[3:7]} {p[7:]}",
        lambda p: f"0086{p}",
        lambda p: f" {p} ",
        lambda p: f"+86-{p}",
    ]
    for i, s in zip(present, style):
        out[i] = formats[s](out[i])
    return out


def messy_emails(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = values.astype(object).copy()
    present = np.flatnonzero(pd.notna(out))
    style = rng.choice(4, size=len(present), p=[0.6, 0.25, 0.1, 0.05])
    for i, s in zip(present, style):
        e = out[i]
        out[i] = e if s == 0 else (f" {e.title()} " if s == 1 else (e.upper() if s == 2 else
                                                                     e.replace("@", "＠")))
    return out


def format_times(ts: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Local wall-clock times → ISO strings: mostly +08:00, some naive local, some UTC `Z`."""
    style = rng.choice(3, size=len(ts), p=[0.7, 0.2, 0.1])
    with_offset = ts.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00").to_numpy(dtype=object)
    naive = ts.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    utc = (ts - pd.Timedelta(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object)
    return np.where(style == 0, with_offset, np.where(style == 1, naive, utc))


# --- the simulation ---------------------------------------------------------------------------

@dataclass
class Output:
    """Rows per source and arrival day, filled day by day."""

    rows: dict[str, dict[int, list[pd.DataFrame]]] = field(default_factory=dict)
    messiness: dict[str, int] = field(default_factory=dict)

    def add(self, source: str, arrival: np.ndarray, frame: pd.DataFrame, days: int) -> None:
        for day in np.unique(arrival):
            if day < days:                              # arrives after the export window: not delivered
                self.rows.setdefault(source, {}).setdefault(int(day), []).append(frame[arrival == day])

    def count(self, what: str, n: int) -> None:
        self.messiness[what] = self.messiness.get(what, 0) + int(n)


def _timestamps(day0: date, day: int, hours: np.ndarray, rng: np.random.Generator) -> pd.Series:
    base = pd.Timestamp(day0) + pd.Timedelta(days=day)
    minutes = np.clip(hours * 60 + rng.normal(0, 50, len(hours)), 0, 24 * 60 - 1).astype(int)
    seconds = minutes * 60 + rng.integers(0, 60, len(hours))
    return pd.Series(base + pd.to_timedelta(seconds, unit="s"))


def _arrival(day: int, n: int, rng: np.random.Generator, late_share: float) -> np.ndarray:
    late = rng.random(n) < late_share
    return np.where(late, day + rng.integers(1, 4, n), day)


def simulate(pop: Population, day0: date, days: int, rng: np.random.Generator) -> Output:
    out = Output()
    ids = pop.ids
    # STOP replies and consent spellings draw from their own stream, so adding them left every
    # other row of a seed's sample as it was.
    replies_rng = rng.spawn(1)[0]
    engaged = np.ones(pop.n, dtype=bool)
    event_seq = order_seq = record_seq = social_seq = consent_seq = 0
    # A new identifier enters the brand's data bound to one it already holds: the first app session
    # of a member is an SMS-code login, a card is issued at the desk against the phone, the
    # official account's member centre, a WeCom contact card and a Weibo/Douyin lead form all
    # ask for the phone. These flags remember which bindings each person has made.
    bound = {name: np.zeros(pop.n, dtype=bool) for name in ("online", "card", "wechat_oa", "wecom", "weibo", "douyin")}
    store_phones = np.array([f"021-6{k:03d}{k:04d}" if k % 3 else f"1380013{k:04d}" for k in range(STORE_COUNT)])
    for day in range(days):
        alive = pop.first_day <= day
        # Habits lapse and return.
        switch = rng.random(pop.n)
        engaged = np.where(engaged, switch >= pop.lapse_hazard, switch < pop.return_hazard)
        registering = pop.registers & (pop.reg_day == day)
        engaged |= registering
        active = alive & (registering | (engaged & (rng.random(pop.n) < pop.activity)))
        registered = pop.registers & (pop.reg_day <= day)
        who = np.flatnonzero(active)

        # Online events.
        online_reg = registering & ~pop.offline_registration
        per_person = 1 + rng.poisson(1.5, len(who))
        person = np.repeat(who, per_person)
        m = len(person)
        kinds = np.array(["app_open", "page_view", "page_view", "search", "add_to_cart", "login", "sign_in",
                          "like", "comment", "share", "coupon_claim"])
        etype = kinds[rng.choice(len(kinds), m, p=[0.2, 0.25, 0.15, 0.08, 0.07, 0.08, 0.06, 0.04, 0.02, 0.03, 0.02])]
        platform = pop.platform[person]
        etype = np.where((etype == "app_open") & ~np.isin(platform, ["ios", "android"]), "page_view", etype)
        first_of_person = np.r_[True, person[1:] != person[:-1]] if m else np.array([], dtype=bool)
        is_register = first_of_person & online_reg[person]
        etype = np.where(is_register, "register", etype)
        etype = np.where(~registered[person] & np.isin(etype, ["login", "sign_in", "coupon_claim"]), "page_view", etype)
        first_session = first_of_person & registered[person] & ~bound["online"][person] & ~is_register
        etype = np.where(first_session, "login", etype)
        bound["online"][person[registered[person]]] = True
        # The second device is a browser the member signed in on.
        second = (registered[person] & ~is_register & ~first_session & pd.notna(ids["device_id_2"][person])
                  & (rng.random(m) < 0.4))
        logged_in = registered[person] & ((rng.random(m) < 0.6) | np.isin(etype, ["register", "login"]) | second)
        # Most Chinese apps log in with the phone number (SMS code), so logins often carry it.
        show_phone = is_register | first_session | ((etype == "login") & (rng.random(m) < 0.5))
        mp = platform == "miniprogram"
        device = np.where(second, ids["device_id_2"][person], ids["device_id"][person]).astype(object)
        zero_device = (platform == "ios") & (rng.random(m) < 0.01)    # "limit ad tracking" devices
        device[zero_device] = ZERO_DEVICE
        out.count("all_zero_device_id", zero_device.sum())
        email = np.where(is_register, ids["email"][person], None).astype(object)
        test_email = is_register & pd.isna(email) & (platform == "web") & (rng.random(m) < 0.3)
        email[test_email] = TEST_EMAIL
        out.count("test_email", test_email.sum())
        times = _timestamps(day0, day, pop.hour[person], rng)
        ids_seq = np.arange(event_seq, event_seq + m)
        event_seq += m
        invited = is_register & (pop.referrer[person] >= 0)
        frame = pd.DataFrame({
            "event_id": _codes("e", ids_seq, 10),
            "event_time": format_times(times, rng),
            "event_type": etype,
            "platform": np.where(platform == "web", np.where(rng.random(m) < 0.3, "h5", "web"), platform),
            "device_id": np.where(mp & (rng.random(m) < 0.7), None, device),
            "push_token": np.where((etype == "app_open") & (rng.random(m) < 0.3), ids["push_token"][person], None),
            "member_id": np.where(logged_in, ids["member_id"][person], None),
            "phone": messy_phones(np.where(show_phone, ids["phone"][person], None), rng),
            "email": messy_emails(email, rng),
            "wechat_openid": np.where(mp, ids["wechat_openid_mp"][person], None),
            "wechat_unionid": np.where(mp & (rng.random(m) < 0.5), ids["wechat_unionid"][person], None),
            "content_category": np.where(rng.random(m) < 0.7, CONTENT_CATEGORIES[pop.content[person]],
                                         CONTENT_CATEGORIES[rng.integers(0, len(CONTENT_CATEGORIES), m)]),
            "item_id": np.char.add("i", rng.integers(1000, 9999, m).astype(str)),
            "campaign_id": None,
            "acquisition_channel": np.where(is_register, np.where(invited, "referral", rng.choice(
                np.array(["app_store", "search", "ads", "offline"]), m)), None),
        })
        arrival = _arrival(day, m, rng, 0.04)
        out.count("late_online_events", (arrival != day).sum())
        dup_same = rng.random(m) < 0.01
        dup_next = rng.random(m) < 0.005
        out.count("duplicate_events_same_file", dup_same.sum())
        out.count("duplicate_events_next_day", dup_next.sum())
        frame = pd.concat([frame, frame[dup_same], frame[dup_next]], ignore_index=True)
        arrival = np.r_[arrival, arrival[dup_same], arrival[dup_next] + 1]
        out.add("online", arrival, frame, days)
        out.add("_truth_online", arrival, pd.DataFrame({"event_id": frame["event_id"],
                                                         "person": np.r_[person, person[dup_same], person[dup_next]]}), days)

        # Offline records: registrations at the member desk, store visits, event check-ins.
        visit = active & pop.store_goer & (rng.random(pop.n) < 0.25)
        walk_in = active & ~pop.store_goer & (rng.random(pop.n) < 0.01)   # non-members at the till
        desk = registering & pop.offline_registration
        rec_person = np.r_[np.flatnonzero(desk), np.flatnonzero(visit & ~desk), np.flatnonzero(walk_in)]
        rec_type = np.r_[np.full(desk.sum(), "member_register"),
                         np.where(rng.random((visit & ~desk).sum()) < 0.9, "store_visit", "event_checkin"),
                         np.full(walk_in.sum(), "store_visit")].astype(object)
        k = len(rec_person)
        store = rng.integers(0, STORE_COUNT, k)
        is_walk_in = np.r_[np.zeros(k - walk_in.sum(), bool), np.ones(walk_in.sum(), bool)]
        # Walk-ins, and card holders who do not remember their number, get the store's counter phone
        # typed in instead of their own: a junk super-node that would merge strangers.
        card_issued = ~is_walk_in & ~bound["card"][rec_person]
        bound["card"][rec_person[~is_walk_in]] = True
        counter = is_walk_in | ((rec_type == "store_visit") & ~card_issued & (rng.random(k) < 0.15))
        phone = np.where(counter, store_phones[store],
                         np.where((rec_type == "member_register") | card_issued | (rng.random(k) < 0.4),
                                  ids["phone"][rec_person], None))
        out.count("store_counter_phone", counter.sum())
        names = np.char.add(SURNAMES[rec_person % len(SURNAMES)], GIVEN[(rec_person // 7) % len(GIVEN)])
        full = rec_type == "member_register"
        frame = pd.DataFrame({
            "record_id": _codes("r", np.arange(record_seq, record_seq + k), 9),
            "record_time": format_times(_timestamps(day0, day, np.clip(pop.hour[rec_person], 10, 21), rng), rng),
            "record_type": rec_type,
            "store_id": _codes("S", store, 3),
            "store_city": CITIES[store % len(CITIES)],
            "member_card_no": np.where(is_walk_in, None, ids["member_card_no"][rec_person]),
            "phone": messy_phones(phone.astype(object), rng),
            "name": np.where(full | (rng.random(k) < 0.2), names, None),
            "gender": np.where(full, pop.gender[rec_person], None),
            "birthday": np.where(full, pop.birthday[rec_person], None),
            "city": np.where(full, CITIES[pop.city[rec_person]], None),
        })
        record_seq += k
        arrival = _arrival(day, k, rng, 0.02)
        out.add("offline", arrival, frame, days)
        out.add("_truth_offline", arrival, pd.DataFrame({"record_id": frame["record_id"], "person": rec_person}), days)

        # Orders, and later versions of earlier orders (refunds, cancellations).
        buyers = np.flatnonzero(active & registered & (rng.random(pop.n) < pop.buy_prob))
        b = len(buyers)
        channel = np.where(pop.store_goer[buyers] & (rng.random(b) < 0.4), "store",
                           pd.Series(pop.platform[buyers]).map({"ios": "app", "android": "app", "web": "web",
                                                                  "miniprogram": "miniprogram"}).to_numpy())
        channel = np.where((channel == "web") & (rng.random(b) < 0.3), rng.choice(np.array(["tmall", "jd"]), b), channel)
        order_times = _timestamps(day0, day, pop.hour[buyers], rng)
        amounts = np.round(pop.basket[buyers] * rng.lognormal(0, 0.3, b), 2)
        orders = pd.DataFrame({
            "order_id": _codes("o", np.arange(order_seq, order_seq + b), 9),
            "order_time": format_times(order_times, rng),
            "updated_at": None,
            "status": "paid",
            "amount": amounts.astype(str),
            "refund_amount": "0",
            "channel": channel,
            "store_id": np.where(channel == "store", _codes("S", rng.integers(0, STORE_COUNT, b), 3), None),
            "member_id": np.where(np.isin(channel, ["app", "web", "miniprogram"]) | (rng.random(b) < 0.5),
                                  ids["member_id"][buyers], None),
            "member_card_no": np.where(channel == "store", ids["member_card_no"][buyers], None),
            "phone": messy_phones(np.where(rng.random(b) < 0.5, ids["phone"][buyers], None), rng),
            "email": messy_emails(np.where(channel == "web", ids["email"][buyers], None), rng),
            "wechat_openid": np.where(channel == "miniprogram", ids["wechat_openid_mp"][buyers], None),
            "item_count": rng.integers(1, 5, b).astype(str),
            "category": np.where(rng.random(b) < 0.7, PRODUCT_CATEGORIES[pop.product[buyers]],
                                 PRODUCT_CATEGORIES[rng.integers(0, len(PRODUCT_CATEGORIES), b)]),
            "coupon_id": np.where(rng.random(b) < 0.15, "CPN-WELCOME", None),
            "campaign_id": None,
        })
        order_seq += b
        arrival = _arrival(day, b, rng, 0.02)
        out.add("sales", arrival, orders, days)
        out.add("_truth_sales", arrival, pd.DataFrame({"order_id": orders["order_id"], "person": buyers}), days)
        # Some of today's orders change later: full refunds, partial refunds, cancellations.
        change = rng.random(b)
        status = np.where(change < 0.05, "refunded", np.where(change < 0.09, "partially_refunded",
                                                               np.where(change < 0.12, "cancelled", None)))
        changed = orders[pd.notna(status)].copy()
        if len(changed):
            st = status[pd.notna(status)]
            later = rng.integers(1, 11, len(changed))
            amount = changed["amount"].astype(float).to_numpy()
            changed["status"] = st
            changed["refund_amount"] = np.where(st == "refunded", amount,
                                                np.where(st == "partially_refunded", np.round(amount * 0.3, 2), 0)).astype(str)
            updated = order_times[pd.notna(status)].reset_index(drop=True) + pd.to_timedelta(later, unit="D")
            changed["updated_at"] = updated.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00").to_numpy()
            out.count("order_versions", len(changed))
            out.add("sales", day + later, changed, days)
            replay = changed[rng.random(len(changed)) < 0.2]        # CDC replays of the same version
            out.count("order_replays", len(replay))
            out.add("sales", np.full(len(replay), day) + 11, replay, days)

        # Social: official-account follows and clicks, WeCom chats, Weibo and Douyin, invites.
        rows = []
        oa = active & pd.notna(ids["wechat_openid_oa"]) & (rng.random(pop.n) < 0.3)
        first_follow = pd.notna(ids["wechat_openid_oa"]) & (pop.first_day == day)
        # Followers are asked to join from the official account's member centre when they register.
        oa |= registering & pd.notna(ids["wechat_openid_oa"])
        for mask, platform_name, actions in (
            (oa | first_follow, "wechat_oa", ["menu_click", "template_click", "message", "like", "share"]),
            # The brand only knows the WeCom, Weibo and Douyin accounts of members who left a lead.
            (active & registered & pd.notna(ids["wecom_external_userid"]) & (rng.random(pop.n) < 0.2), "wecom",
             ["message"]),
            (active & registered & pd.notna(ids["weibo_uid"]) & (rng.random(pop.n) < 0.3), "weibo",
             ["like", "comment", "repost"]),
            (active & registered & pd.notna(ids["douyin_id"]) & (rng.random(pop.n) < 0.3), "douyin",
             ["like", "comment", "share"]),
        ):
            p = np.flatnonzero(mask)
            act = np.array(actions, dtype=object)[rng.integers(0, len(actions), len(p))]
            if platform_name == "wechat_oa":
                act = np.where(first_follow[p], "follow", act)
                act = np.where(pop.sharer[p] & (rng.random(len(p)) < 0.5), "share", act)
            binding = registered[p] & ~bound[platform_name][p]
            bound[platform_name][p[registered[p]]] = True
            rows.append((p, platform_name, act, np.full(len(p), None, dtype=object), binding))
        # Invites: the sharer invites the invitee the day before the invitee registers.
        invitees = np.flatnonzero((pop.reg_day == day + 1) & (pop.referrer >= 0) & pd.notna(ids["wechat_openid_oa"])
                                  & pd.notna(ids["wechat_openid_oa"][np.maximum(pop.referrer, 0)]))
        rows.append((pop.referrer[invitees], "wechat_oa", np.full(len(invitees), "invite", dtype=object),
                     ids["wechat_openid_oa"][invitees], np.zeros(len(invitees), dtype=bool)))
        out.count("invites", len(invitees))
        sp = np.concatenate([r[0] for r in rows]).astype(int)
        s = len(sp)
        plat = np.concatenate([np.full(len(r[0]), r[1], dtype=object) for r in rows])
        acts = np.concatenate([r[2] for r in rows])
        on = {name: plat == name for name in ("wechat_oa", "wecom", "weibo", "douyin")}
        binding = np.concatenate([r[4] for r in rows])
        frame = pd.DataFrame({
            "interaction_id": _codes("s", np.arange(social_seq, social_seq + s), 9),
            "interaction_time": format_times(_timestamps(day0, day, pop.hour[sp], rng), rng),
            "platform": plat,
            "action": acts,
            "wechat_openid": np.where(on["wechat_oa"], ids["wechat_openid_oa"][sp], None),
            # Accounts bound to the WeChat open platform report the unionid on most events.
            "wechat_unionid": np.where((on["wechat_oa"] | on["wecom"]) & (binding | (rng.random(s) < 0.9)),
                                       ids["wechat_unionid"][sp], None),
            "wecom_external_userid": np.where(on["wecom"], ids["wecom_external_userid"][sp], None),
            "wecom_owner": np.where(on["wecom"], ids["wecom_owner"][sp], None),
            "weibo_uid": np.where(on["weibo"], ids["weibo_uid"][sp], None),
            "douyin_id": np.where(on["douyin"], ids["douyin_id"][sp], None),
            # A phone bound on the brand's social service (lead forms, WeCom contact cards).
            "phone": messy_phones(np.where(binding | (on["wecom"] & (rng.random(s) < 0.3))
                                           | ((on["weibo"] | on["douyin"]) & (rng.random(s) < 0.25)),
                                           ids["phone"][sp], None), rng),
            "content_category": CONTENT_CATEGORIES[pop.content[sp]],
            "invitee_openid": np.concatenate([r[3] for r in rows]),
            "follower_count": np.where(np.isin(acts, ["share", "repost", "invite"]),
                                       np.where(pop.sharer[sp], rng.integers(500, 20000, s), rng.integers(10, 300, s)),
                                       None),
        })
        social_seq += s
        frame["follower_count"] = frame["follower_count"].map(lambda v: None if v is None else int(v))
        arrival = _arrival(day, s, rng, 0.02)
        out.add("social", arrival, frame, days)
        out.add("_truth_social", arrival, pd.DataFrame({"interaction_id": frame["interaction_id"], "person": sp}), days)

        # Consent: opt-ins at registration (email), opt-outs and re-opt-ins over time.
        crow = []
        reg_email = np.flatnonzero(registering & pd.notna(ids["email"]) & (rng.random(pop.n) < 0.6))
        crow.append((reg_email, "email", "email", ids["email"][reg_email], "opt_in", "registration"))
        for share, channel_name, id_type, source in ((0.0006, "sms", "phone", "unsubscribe_reply"),
                                                     (0.0002, "all", "phone", "complaint"),
                                                     (0.0002, "personalised", "member_id", "preference_center"),
                                                     (0.0003, "push", "device_id", "preference_center"),
                                                     (0.0002, "wechat", "wechat_openid", "preference_center")):
            key = {"phone": "phone", "member_id": "member_id", "device_id": "device_id",
                   "wechat_openid": "wechat_openid_oa"}[id_type]
            p = np.flatnonzero(registered & pd.notna(ids[key]) & (rng.random(pop.n) < share))
            crow.append((p, channel_name, id_type, ids[key][p], "opt_out", source))
        back = np.flatnonzero(registered & pd.notna(ids["phone"]) & (rng.random(pop.n) < 0.00005))
        crow.append((back, "sms", "phone", ids["phone"][back], "opt_in", "preference_center"))
        cp = np.concatenate([r[0] for r in crow]).astype(int)
        c = len(cp)
        values = np.concatenate([r[3] for r in crow]).astype(object)
        id_types = np.concatenate([np.full(len(r[0]), r[2], dtype=object) for r in crow])
        values = np.where(id_types == "phone", messy_phones(values, rng), values)
        frame = pd.DataFrame({
            "consent_id": _codes("c", np.arange(consent_seq, consent_seq + c), 8),
            "event_time": format_times(_timestamps(day0, day, pop.hour[cp], rng), rng),
            "channel": np.concatenate([np.full(len(r[0]), r[1], dtype=object) for r in crow]),
            "identifier_type": id_types,
            "identifier_value": values,
            "status": np.concatenate([np.full(len(r[0]), r[4], dtype=object) for r in crow]),
            "source": np.concatenate([np.full(len(r[0]), r[5], dtype=object) for r in crow]),
        })
        respelled = spell_consent_values(frame, replies_rng)
        consent_seq += c
        out.count("consent_events", c)
        out.count("consent_values_in_vendor_spellings", respelled)
        out.add("consent", np.full(c, day), frame, days)
        out.add("_truth_consent", np.full(c, day), pd.DataFrame({"consent_id": frame["consent_id"], "person": cp}), days)

        # The SMS gateway's reply (uplink) report: most replies are chatter, some are a STOP.
        rp = np.flatnonzero(registered & pd.notna(ids["phone"]) & (replies_rng.random(pop.n) < 0.003))
        if len(rp):
            stop = replies_rng.random(len(rp)) < 0.5
            content = np.where(stop, replies_rng.choice(STOP_REPLIES, len(rp)), replies_rng.choice(CHATTER, len(rp)))
            frame = pd.DataFrame({
                "phone_number": ids["phone"][rp].astype(object),            # Alibaba Cloud's report names
                "content": content,
                "send_time": _timestamps(day0, day, pop.hour[rp], replies_rng).dt.strftime("%Y-%m-%d %H:%M:%S"),
                "sign_name": "userops",
            })
            out.count("sms_replies", len(rp))
            out.count("sms_stop_replies", int(stop.sum()))
            out.add("sms_replies", np.full(len(rp), day), frame, days)
    return out


STOP_REPLIES = np.array(["TD", "td", "退订", "T", "R", "拒收", "N", "stop"], dtype=object)
CHATTER = np.array(["好的", "谢谢", "收到", "?", "多少钱", "在哪个门店"], dtype=object)
# Consent values as vendors' exports spell them (all in seeds/value_aliases.csv or equal up to case).
SPELLINGS = {"channel": {"sms": ["SMS", " Sms ", "短信"], "all": ["ALL", "全部"]},
             "status": {"opt_out": ["OPT_OUT", "退订", "unsubscribe"], "opt_in": ["OPT_IN", "订阅"]},
             "identifier_type": {"phone": ["mobile", "手机号", "Phone"]}}


def spell_consent_values(frame: pd.DataFrame, rng: np.random.Generator, share: float = 0.3) -> int:
    """Rewrite a share of the consent rows' enumerated values in other spellings; returns how many rows."""
    rows = rng.random(len(frame)) < share
    for column, spellings in SPELLINGS.items():
        for value, forms in spellings.items():
            hit = rows & (frame[column] == value).to_numpy()
            frame.loc[hit, column] = rng.choice(np.array(forms, dtype=object), int(hit.sum()))
    return int(rows.sum())


# --- the bad rows every export has ------------------------------------------------------------

def inject_bad_rows(frames: dict[str, pd.DataFrame], day: int, rng: np.random.Generator, out: Output) -> dict[str, list[str]]:
    """Break a few rows of the day in ways the pipeline must quarantine. Returns raw lines to
    append as-is to files (lines that cannot be parsed at all)."""
    raw_lines: dict[str, list[str]] = {}
    online = frames.get("online")
    if online is not None and len(online) > 20 and rng.random() < 0.5:
        i = rng.integers(0, len(online), 3)
        online.loc[online.index[i[0]], "event_id"] = None                      # missing required value
        online.loc[online.index[i[1]], "event_time"] = "2031-01-01T00:00:00+08:00"   # client clock far ahead
        online.loc[online.index[i[2]], "event_time"] = "yesterday evening"      # unparseable
        raw_lines["online"] = ['{"event_id": "e-broken", "event_time": "2026-']   # cut-off JSON line
        out.count("bad_online_rows", 4)
    sales = frames.get("sales")
    if sales is not None and len(sales) > 5 and rng.random() < 0.06:
        i = rng.integers(0, len(sales), 3)
        sales.loc[sales.index[i[0]], "amount"] = "-15.00"                       # negative amount
        sales.loc[sales.index[i[1]], "phone"] = "1.38001E+10"                   # Excel scientific notation
        sales.loc[sales.index[i[2]], "refund_amount"] = "99999"                 # refund above amount
        out.count("bad_sales_rows", 3)
    offline = frames.get("offline")
    if offline is not None and len(offline) > 5 and rng.random() < 0.1:
        i = rng.integers(0, len(offline))
        offline.loc[offline.index[i], "phone"] = "13800138000/13900139000"      # two numbers in one cell
        raw_lines["offline"] = ["r-broken,2026-01-01 10:00:00,store_visit,S001,上海,,,张三,女,1990-01-01,上海,多余的列"]
        out.count("bad_offline_rows", 2)
    return raw_lines


# --- writing ------------------------------------------------------------------------------------

def _jsonl(frame: pd.DataFrame, extra_lines: list[str] | None = None) -> bytes:
    text = frame.to_json(orient="records", lines=True, force_ascii=False) if len(frame) else ""
    text = text.rstrip("\n") + "\n" if text else ""
    return (text + "".join(line + "\n" for line in extra_lines or [])).encode("utf-8")


def _csv(frame: pd.DataFrame, encoding: str, extra_lines: list[str] | None = None) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    text = buffer.getvalue() + "".join(line + "\n" for line in extra_lines or [])
    return text.encode(encoding)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)          # a reader never sees half a file


def write_landing(out: Output, landing: Path, day0: date, days: int, rng: np.random.Generator) -> dict[str, int]:
    written: dict[str, int] = {}
    for day in range(days):
        dt = f"dt={(day0 + timedelta(days=day)).isoformat()}"
        frames = {src: pd.concat(parts, ignore_index=True) for src, by_day in out.rows.items()
                  if not src.startswith("_") and (parts := by_day.get(day))}
        raw_lines = inject_bad_rows(frames, day, rng, out)
        for source, frame in frames.items():
            folder = landing / source / dt
            lines = raw_lines.get(source)
            if source == "online":
                # Big days come in two parts; every third day the second part is gzip-compressed.
                half = len(frame) // 2
                _write(folder / "part-0001.jsonl", _jsonl(frame.iloc[:half], lines))
                second = _jsonl(frame.iloc[half:])
                if day % 3 == 2:
                    _write(folder / "part-0002.jsonl.gz", gzip.compress(second, mtime=0))
                else:
                    _write(folder / "part-0002.jsonl", second)
            elif source == "offline":
                _write(folder / "stores.csv", _csv(frame, "gbk", lines))         # exported by Excel on a CN PC
            elif source == "sales":
                table = pa.Table.from_pandas(frame.astype("object").where(frame.notna(), None), preserve_index=False,
                                             schema=pa.schema([(c, pa.string()) for c in frame.columns]))
                buffer = io.BytesIO()
                pq.write_table(table, buffer, compression="snappy")
                _write(folder / "orders.parquet", buffer.getvalue())
            elif source == "social":
                _write(folder / "wechat.jsonl", _jsonl(frame, lines))
            elif source == "consent":
                _write(folder / "optouts.csv", _csv(frame, "utf-8-sig", lines))  # with a BOM
            elif source == "sms_replies":
                _write(folder / "aliyun_mo.csv", _csv(frame, "utf-8", lines))
            written[source] = written.get(source, 0) + len(frame)
    return written


def write_truth(pop: Population, out: Output, truth: Path, day0: date) -> None:
    """The true person behind every identifier and every record, for tests and benchmarks."""
    truth.mkdir(parents=True, exist_ok=True)
    person_key = _codes("P", np.arange(pop.n), 7)
    rows = []
    id_types = {"device_id": "device_id", "device_id_2": "device_id", "member_id": "member_id", "phone": "phone",
                "email": "email", "member_card_no": "member_card_no", "push_token": "push_token",
                "wechat_unionid": "wechat_unionid", "wechat_openid_mp": "wechat_openid",
                "wechat_openid_oa": "wechat_openid", "wecom_external_userid": "wecom_external_userid",
                "weibo_uid": "weibo_uid", "douyin_id": "douyin_id"}
    for key, id_type in id_types.items():
        values = pop.ids[key]
        have = pd.notna(values)
        value = values[have].astype(str)
        if id_type == "phone":
            value = np.char.add("+86", value)
        app = {"wechat_openid_mp": "miniprogram", "wechat_openid_oa": "wechat_oa"}.get(key)
        rows.append(pd.DataFrame({"identifier_type": id_type, "wechat_app": app, "identifier_value": value,
                                  "person_key": person_key[have]}))
    pd.concat(rows, ignore_index=True).to_csv(truth / "identifiers.csv", index=False)
    pd.DataFrame({
        "person_key": person_key, "registers": pop.registers,
        "registered_on": [(day0 + timedelta(days=int(d))).isoformat() if r else None
                          for d, r in zip(pop.reg_day, pop.registers)],
        "first_day": [(day0 + timedelta(days=int(d))).isoformat() for d in pop.first_day],
        "buy_prob": pop.buy_prob.round(3), "store_goer": pop.store_goer, "sharer": pop.sharer,
        "referrer": np.where(pop.referrer >= 0, person_key[np.maximum(pop.referrer, 0)], None),
    }).to_csv(truth / "persons.csv", index=False)
    for source, key in (("online", "event_id"), ("offline", "record_id"), ("sales", "order_id"),
                        ("social", "interaction_id"), ("consent", "consent_id")):
        parts = [f for frames in out.rows.get(f"_truth_{source}", {}).values() for f in frames]
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[key, "person"])
        frame = frame.drop_duplicates(key).sort_values(key)
        pd.DataFrame({key: frame[key], "person_key": person_key[frame["person"].astype(int)]}).to_csv(
            truth / f"{source}_records.csv", index=False)
    (truth / "messiness.json").write_text(json.dumps(dict(sorted(out.messiness.items())), indent=2) + "\n")


def generate(landing: Path, persons: int, start: date, end: date, seed: int,
             truth: Path | None = None) -> dict[str, int]:
    """Write the landing zone for arrival days start..end (inclusive). Returns rows per source."""
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    if persons < 1:
        raise ValueError("--persons must be at least 1")
    days = (end - start).days + 1
    rng = np.random.default_rng(seed)
    pop = make_population(persons, days, rng)
    out = simulate(pop, start, days, rng)
    written = write_landing(out, Path(landing), start, days, rng)
    if truth is not None:
        write_truth(pop, out, Path(truth), start)
    return written
