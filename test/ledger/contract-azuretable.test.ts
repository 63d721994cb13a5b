import { ledgerContract } from "./contract";

ledgerContract("azuretable");
