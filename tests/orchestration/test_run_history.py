"""The run history's event log: Dagster's SQLite storage, one engine per process."""

import os

import dagster as dg
from sqlalchemy import event

from dagster_project.core.settings import Settings
from dagster_project.orchestration.run_history import HistoryEventLogStorage, write_instance_config


@dg.asset
def counted() -> None:
    """An asset whose runs write a dozen events each."""


def _instance(settings: Settings) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(write_instance_config(settings).parent))


def test_a_run_writes_its_events_over_a_few_kept_connections(isolated_data_dir):
    settings = Settings.from_env()
    with _instance(settings) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, HistoryEventLogStorage)
        connects = []
        event.listen(storage._pooled_engine(), "connect", lambda *_: connects.append(1))
        runs = [
            dg.materialize([counted], instance=instance).run_id,
            dg.materialize([counted], instance=instance).run_id,
        ]
        written = [len(instance.all_logs(run_id)) for run_id in runs]
        assert min(written) >= 10
        # Dagster's own SQLite storage opens one connection per event
        assert len(connects) <= 5, (len(connects), written)
    # what it wrote is Dagster's history, as any instance reads it
    with _instance(settings) as instance:
        assert [len(instance.all_logs(run_id)) for run_id in runs] == written
        assert instance.get_latest_materialization_event(dg.AssetKey("counted")) is not None


def test_a_forked_child_writes_over_its_own_engine(isolated_data_dir):
    settings = Settings.from_env()
    with _instance(settings) as instance:
        dg.materialize([counted], instance=instance)  # the parent's engine and connections
        parent_engine = instance.event_log_storage._pooled_engine()
        pid = os.fork()
        if pid == 0:  # the child: a run of its own, then the answer in its exit status
            code = 1
            try:
                storage = instance.event_log_storage
                result = dg.materialize([counted], instance=instance)
                code = 0 if result.success and storage._pooled_engine() is not parent_engine else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # the parent's connections still work after the child's writes
        dg.materialize([counted], instance=instance)
        assert instance.event_log_storage._pooled_engine() is parent_engine
        runs = instance.get_runs()
        assert len(runs) == 3
        assert all(len(instance.all_logs(run.run_id)) >= 10 for run in runs)
