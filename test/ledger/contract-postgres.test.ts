import { ledgerContract } from "./contract";

ledgerContract("postgres");
