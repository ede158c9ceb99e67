#!/usr/bin/env node
/**
 * The `laminar` executable (package.json `bin`).
 *
 * @module
 */
import { main } from "./main.js";

await main();
