"""Airflow's plugins folder (AIRFLOW__CORE__PLUGINS_FOLDER, zhongwei.deploy): the pipeline's sites in the UI."""
from zhongwei.airflow_plugin import ZhongweiSites  # noqa: F401 - Airflow loads the plugin classes it finds here
