import { openStores } from "../../src/store/open.ts";
import { storeContract } from "./contract.ts";

storeContract("sqlite", (dataDir) => openStores({ backend: "sqlite", dataDir }));
