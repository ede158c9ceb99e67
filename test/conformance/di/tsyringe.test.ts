import t from "tap";
import { TsyringeResolver } from "../../../layers/di/tsyringe-resolver.js";
import { diConformance } from "./di-conformance.js";

diConformance(t, "TsyringeResolver", () => new TsyringeResolver());
