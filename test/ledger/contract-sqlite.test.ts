import { ledgerContract } from "./contract";

ledgerContract("sqlite");
