/**
 * MemoryBroker and MemoryResultBackend: the broker and result backend conformance suites.
 */
import t from "tap";
import { MemoryResultBackend } from "../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../lib/tasks/memory/memory-broker.js";
import { brokerConformance } from "./broker-cases.js";
import { resultBackendConformance } from "./result-backend-cases.js";

brokerConformance(t, "MemoryBroker", (clock) => new MemoryBroker(clock));
resultBackendConformance(t, "MemoryResultBackend", (clock) => new MemoryResultBackend(clock));
