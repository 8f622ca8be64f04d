import { openStores } from "../../src/store/open.ts";
import { storeContract } from "./contract.ts";

storeContract("file", (dataDir) => openStores({ backend: "file", dataDir }));
