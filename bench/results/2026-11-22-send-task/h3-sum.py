import json,sys,statistics,os
root=sys.argv[1]; vs=sys.argv[2:]
for w in ["W2-loadgen-128","W2-loadgen-1024","W5-loadgen-64"]:
    print(w)
    for v in vs:
        rs=[json.loads(l) for l in open(f"{root}/{v}/{w}.json") if l.strip()]
        m=[r["msgs_per_s"] for r in rs]
        c=[list(r["cpu"]["pids"].values())[0]["us_per_msg"] for r in rs]
        p99=[r.get("lat_us",{}).get("p99") for r in rs]
        print(f"  {v:10s} msg/s med {statistics.median(m):8.0f} runs {[round(x) for x in m]}  cpu us/msg med {statistics.median(c):5.2f} runs {[round(x,2) for x in c]} p99 {statistics.median(p99)}")
