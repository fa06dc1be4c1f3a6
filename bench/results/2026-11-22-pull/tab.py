import json,sys,statistics
for d in sys.argv[1:]:
    rows=[json.loads(l) for l in open(d+"/pull.json") if l.strip()]
    mps=[r["msgs_per_s"] for r in rows]
    us=[list(r["cpu"]["pids"].values())[0]["us_per_msg"] for r in rows]
    other=[r["cpu"]["other_pct"] for r in rows]
    print(d.split('/')[-1], "msgs/s", [round(x/1000) for x in mps], "median", round(statistics.median(mps)/1000,1), "k | us/msg", [round(x,2) for x in us], "median", round(statistics.median(us),2), "| other%", [round(x) for x in other], "| msgs", [r["msgs"] for r in rows])
