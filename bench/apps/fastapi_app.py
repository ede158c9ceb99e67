"""FastAPI on Uvicorn serving the benchmark's four workloads, the Python stack laminar re-creates.

The same constraints as ``items-schema.ts`` as pydantic models (the 201's ``response_model`` drops
the unknown field), the path id validated as an int and ``q`` as an optional string, and ``GET
/deps`` with the same three nested dependencies as the laminar app: a per-request service
(``RequestLog``, cached for the request as FastAPI caches every dependency), a function
dependency (``current_user``) and its sub-dependency (``settings``).

Endpoints and dependencies are ``async def``: FastAPI runs ``def`` ones in a thread pool, which
would slow it down for no reason of the workload's; this is FastAPI's fast path.

Run (what ``bench/run.ts`` does, with uvloop and httptools)::

    PORT=3007 /usr/bin/python3 -m uvicorn fastapi_app:app --app-dir bench/apps \
        --host 127.0.0.1 --port 3007 --no-access-log --loop uvloop --http httptools
"""

from typing import List, Optional

import pydantic
from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

# Debian 12 ships FastAPI 0.92 with pydantic 1 (no Annotated dependencies, max_items for lists);
# newer stacks have pydantic 2 (max_length). The constraints are the same either way.
PYDANTIC_2 = pydantic.VERSION.startswith("2")
LIST_MAX = {"max_length": 10} if PYDANTIC_2 else {"max_items": 10}

app = FastAPI()


class ItemCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(ge=0)
    tags: List[str] = Field(**LIST_MAX)


class Item(BaseModel):
    id: int
    name: str
    price: float
    tags: List[str]


class RequestLog:
    """The request-scoped service: a fresh log for each request."""

    def __init__(self) -> None:
        self.entries: List[str] = []

    def add(self, entry: str) -> None:
        self.entries.append(entry)


async def request_log() -> RequestLog:
    return RequestLog()


async def settings() -> dict:
    return {"user_prefix": "user-", "role": "admin"}


async def current_user(config: dict = Depends(settings)) -> dict:
    return {"id": 42, "name": f"{config['user_prefix']}42", "role": config["role"]}


next_id = 1


@app.get("/hello")
async def hello():
    return {"message": "hello"}


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: Optional[str] = None):
    return {"id": item_id, "q": q}


@app.post("/items", response_model=Item, status_code=201)
async def create_item(item: ItemCreate):
    global next_id
    created = {**(item.model_dump() if PYDANTIC_2 else item.dict()), "id": next_id}
    next_id += 1
    return created


@app.get("/deps")
async def deps(
    user: dict = Depends(current_user),
    log: RequestLog = Depends(request_log),
):
    log.add("GET /deps")
    return {"user": user["name"], "role": user["role"], "logged": len(log.entries)}
