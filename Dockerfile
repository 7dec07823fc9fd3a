# The project's image: Airflow's official image with the project's pinned dependencies and code.
# Built by `docker compose build`; every Airflow service and the exchange simulator run it.
FROM apache/airflow:3.3.2-python3.11

# CJK fonts for the bulletin's charts
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
USER airflow

# the dependencies first (a layer that changes only with the lock files)
COPY --chown=airflow:0 requirements.txt constraints.txt /opt/zhongwei/
RUN pip install --no-cache-dir -c /opt/zhongwei/constraints.txt -r /opt/zhongwei/requirements.txt

COPY --chown=airflow:0 pyproject.toml /opt/zhongwei/
COPY --chown=airflow:0 include /opt/zhongwei/include
COPY --chown=airflow:0 dags /opt/zhongwei/dags
COPY --chown=airflow:0 dbt_project /opt/zhongwei/dbt_project
COPY --chown=airflow:0 expectations /opt/zhongwei/expectations
COPY --chown=airflow:0 plugins /opt/zhongwei/plugins
# the mount point of the volume dbt_project/target: a new volume takes its owner from it
RUN mkdir -p /opt/zhongwei/dbt_project/target
# editable: the package finds dags/, dbt_project/ and expectations/ next to include/ (zhongwei.config)
RUN pip install --no-cache-dir --no-deps -e /opt/zhongwei
WORKDIR /opt/zhongwei
