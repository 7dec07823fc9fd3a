"""The courier exchange (寄递数据交换接口 v1): contract, simulator and client.

- `contract`: company names, kinds, page limits, timestamp rules.
- `index`: where every servable record lives in a folder of JSON Lines files.
- `server`: the simulator (`zw exchange serve`, or `serve_in_thread` in tests).
- `client`: `ExchangeClient`, paging with retries, for the ingestion DAG.
"""
