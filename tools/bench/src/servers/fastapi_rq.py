"""The original design, rebuilt as the gateway benchmark's baseline: a FastAPI
app whose POST /v1/chat parses the JSON body and enqueues an RQ job on Redis,
answering 202 with the job id. No auth, no validation, no worker (the jobs
only pile up, as the gateway's do behind its saturated worker).

The handler is `async` and calls RQ's (blocking) enqueue directly: one
localhost round trip is shorter than a hop to the thread pool, so this is the
faster of the two ways to write it. Served by uvicorn, one worker process:

    REDIS_URL=redis://127.0.0.1:6379 python3 -m uvicorn fastapi_rq:app \
        --app-dir tools/bench/src/servers --host 127.0.0.1 --port 8000 --workers 1
"""
import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis import Redis
from rq import Queue

queue = Queue("rag-query", connection=Redis.from_url(os.environ["REDIS_URL"]))
app = FastAPI()


@app.post("/v1/chat")
async def chat(request: Request) -> JSONResponse:
    body = await request.json()
    # By name: RQ imports the function only in a worker, and none runs here.
    job = queue.enqueue("rag_worker.answer_question", body)
    return JSONResponse({"job_id": job.id, "status": "queued", "status_url": f"/v1/jobs/{job.id}"}, status_code=202)
