"""The purchase model on the small sample run (19 buyers): too few to fit, so the pipeline goes on
without it — no parameters for the day, p_alive empty, no warnings. The fitted case is in
tests/test_churn.py."""

import duckdb


def test_too_few_buyers_leave_p_alive_empty_and_the_run_green(pipeline_run):
    assert pipeline_run["result"].returncode == 0
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as conn:
        buyers, minimum = conn.execute("""select (select count(*) from intermediate.int_purchase_histories),
                                                 (select min_buyers_to_fit from intermediate.int_churn_settings)""").fetchone()
        assert 0 < buyers < minimum
        assert conn.execute("select count(*) from churn.purchase_model").fetchone() == (0,)
        assert conn.execute("select count(p_alive), count(p_active) from marts.user_profile").fetchone() == (0, 0)
        assert conn.execute("select count(*) from marts.churn_warnings").fetchone() == (0,)
